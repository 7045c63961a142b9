-- Revenue, orders, buyers and average order value per period ($granularity: day, week
-- starting Monday, or month) between $start_date and $end_date (inclusive; null: unbounded).
with transactions_in_range as (
    select
        transaction_date,
        customer_id,
        amount
    from transactions
    where
        ($start_date is null or transaction_date >= $start_date)
        and ($end_date is null or transaction_date <= $end_date)
),

periods as (
    select
        cast(date_trunc($granularity, transaction_date) as date) as period_start,
        sum(amount) as revenue,
        count(*) as orders,
        count(distinct customer_id) as customers
    from transactions_in_range
    group by cast(date_trunc($granularity, transaction_date) as date)
),

final as (
    select
        period_start,
        round(revenue, 2) as revenue,
        orders,
        customers,
        round(revenue / nullif(orders, 0), 2) as avg_order_value
    from periods
)

select * from final
order by period_start
