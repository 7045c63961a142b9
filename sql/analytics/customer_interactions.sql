-- One customer's interactions up to the end of the snapshot's as-of day ($as_of): the count and
-- the latest by interaction type and by status, and overall (dimension 'all'), in one pass
-- (grouping sets). The customer predicate stays a plain equality so that DuckDB skips the row
-- groups of other customers (the table is sorted by customer).
with customer_interactions as (
    select
        interaction_type,
        status,
        interaction_at
    from interactions
    where customer_id = $customer_id
),

recorded as (
    select *
    from customer_interactions
    where interaction_at < cast($as_of + 1 as timestamp)
),

grouped as (
    select
        case
            when grouping(interaction_type) = 0 then 'interaction_type'
            when grouping(status) = 0 then 'status'
            else 'all'
        end as dimension,
        coalesce(interaction_type, status) as dimension_value,
        count(*) as interactions,
        max(interaction_at) as last_interaction_at
    from recorded
    group by grouping sets ((interaction_type), (status), ())
),

final as (
    select
        dimension,
        case
            when dimension = 'all' then 'all'
            else coalesce(dimension_value, 'Unknown')
        end as dimension_value,
        interactions,
        last_interaction_at,
        case dimension when 'all' then 0 when 'interaction_type' then 1 else 2 end
            as dimension_rank
    from grouped
)

select * from final
order by dimension_rank, interactions desc, dimension_value
