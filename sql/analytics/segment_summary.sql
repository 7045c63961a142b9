-- One RFM segment ($segment_name; 'No Purchases' for customers without one) over the $days days
-- up to the snapshot's as-of day ($as_of): its window, customers, their interactions in the
-- window and the customers these came from, and interactions per customer. Always one row
-- (customers = 0 for a segment that does not exist).
with customers as (
    select
        customer_id,
        rfm_segment as segment_value
    from customer_360
),

interaction_log as (
    select
        customer_id,
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
    select interaction_log.customer_id
    from interaction_log
    inner join members on interaction_log.customer_id = members.customer_id
    where
        interaction_log.interaction_at >= cast($as_of - ($days - 1) as timestamp)
        and interaction_log.interaction_at < cast($as_of + 1 as timestamp)
),

member_count as (
    select count(*) as customers
    from members
),

activity as (
    select
        count(*) as interactions,
        count(distinct customer_id) as active_customers
    from window_interactions
),

final as (
    select
        $as_of - ($days - 1) as window_start,
        $as_of as window_end,
        member_count.customers,
        activity.interactions,
        activity.active_customers,
        round(cast(activity.interactions as double) / nullif(member_count.customers, 0), 2)
            as avg_interactions_per_customer
    from member_count
    cross join activity
)

select * from final
