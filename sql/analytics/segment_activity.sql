-- The interactions of one RFM segment's customers ($segment_name; 'No Purchases' for customers
-- without one) over the $days days up to the snapshot's as-of day ($as_of), in one pass
-- (grouping sets): by interaction type (dimension 'interaction_type', with its share) and by
-- UTC day (dimension 'activity_date', oldest first; days without interactions have no row).
with customers as (
    select
        customer_id,
        rfm_segment as segment_value
    from customer_360
),

interaction_log as (
    select
        customer_id,
        interaction_type,
        interaction_at
    from interactions
),

members as (
    select customer_id
    from customers
    where
        segment_value = $segment_name
        or (segment_value is null and $segment_name = 'No Purchases')
),

window_interactions as (
    select
        interaction_log.customer_id,
        interaction_log.interaction_type,
        cast(interaction_log.interaction_at as date) as activity_date
    from interaction_log
    inner join members on interaction_log.customer_id = members.customer_id
    where
        interaction_log.interaction_at >= cast($as_of - ($days - 1) as timestamp)
        and interaction_log.interaction_at < cast($as_of + 1 as timestamp)
),

grouped as (
    select
        case
            when grouping(interaction_type) = 0 then 'interaction_type'
            else 'activity_date'
        end as dimension,
        interaction_type,
        activity_date,
        count(*) as interactions,
        count(distinct customer_id) as active_customers
    from window_interactions
    group by grouping sets ((interaction_type), (activity_date))
),

final as (
    select
        dimension,
        interaction_type,
        activity_date,
        interactions,
        active_customers,
        round(cast(interactions as double) / sum(interactions) over (partition by dimension), 4)
            as interaction_share
    from grouped
)

select * from final
order by dimension desc, activity_date, interactions desc, interaction_type
