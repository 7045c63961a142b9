-- Interactions per calendar month (UTC) up to the end of the snapshot's as-of day ($as_of), with
-- the customers they came from. Each row's timestamp is converted to its UTC date once (the
-- conversion is most of the cost: a full pass over the table, cached per snapshot).
with interaction_log as (
    select
        customer_id,
        interaction_at
    from interactions
),

recorded as (
    select
        customer_id,
        cast(interaction_at as date) as interaction_date
    from interaction_log
    where interaction_at < cast($as_of + 1 as timestamp)
),

final as (
    select
        cast(date_trunc('month', interaction_date) as date) as month_date,
        count(*) as interactions,
        count(distinct customer_id) as active_customers
    from recorded
    group by cast(date_trunc('month', interaction_date) as date)
)

select * from final
order by month_date
