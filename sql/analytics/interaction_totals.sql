-- Organisation totals as of the snapshot ($as_of): customers, interactions up to the end of the
-- as-of day and the customers they came from, and interactions on the as-of day, in its week
-- (from Monday) and in its month. Timestamps are compared with the boundaries' instants, so no
-- row's timestamp needs converting.
with customers as (
    select customer_id
    from customer_360
),

interaction_log as (
    select
        customer_id,
        interaction_at
    from interactions
),

recorded as (
    select *
    from interaction_log
    where interaction_at < cast($as_of + 1 as timestamp)
),

customer_count as (
    select count(*) as customers
    from customers
),

activity as (
    select
        count(*) as interactions,
        count(distinct customer_id) as interacting_customers,
        count(case when interaction_at >= cast($as_of as timestamp) then 1 end)
            as interactions_today,
        count(case when interaction_at >= date_trunc('week', cast($as_of as date)) then 1 end)
            as interactions_this_week,
        count(case when interaction_at >= date_trunc('month', cast($as_of as date)) then 1 end)
            as interactions_this_month,
        max(interaction_at) as last_interaction_at
    from recorded
),

final as (
    select
        $as_of as as_of,
        customer_count.customers,
        activity.interactions,
        activity.interacting_customers,
        round(cast(activity.interactions as double) / nullif(customer_count.customers, 0), 2)
            as avg_interactions_per_customer,
        activity.interactions_today,
        activity.interactions_this_week,
        activity.interactions_this_month,
        activity.last_interaction_at
    from customer_count
    cross join activity
)

select * from final
