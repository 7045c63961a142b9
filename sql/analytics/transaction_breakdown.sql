-- Revenue, orders and average order value by category and by channel between $start_date and
-- $end_date (inclusive; null: unbounded), in one pass (grouping sets; the empty set is every
-- transaction in the range, dimension 'all'). A missing category or channel is 'Unknown'.
with transactions_in_range as (
    select
        category,
        channel,
        amount
    from transactions
    where
        ($start_date is null or transaction_date >= $start_date)
        and ($end_date is null or transaction_date <= $end_date)
),

grouped as (
    select
        case
            when grouping(category) = 0 then 'category'
            when grouping(channel) = 0 then 'channel'
            else 'all'
        end as dimension,
        coalesce(category, channel) as dimension_value,
        sum(amount) as revenue,
        count(*) as orders
    from transactions_in_range
    group by grouping sets ((category), (channel), ())
),

final as (
    select
        dimension,
        case
            when dimension = 'all' then 'all'
            else coalesce(dimension_value, 'Unknown')
        end as dimension_value,
        round(revenue, 2) as revenue,
        orders,
        round(revenue / nullif(orders, 0), 2) as avg_order_value,
        round(revenue / nullif(sum(revenue) over (partition by dimension), 0), 4)
            as revenue_share,
        case dimension when 'all' then 0 when 'category' then 1 else 2 end as dimension_rank
    from grouped
)

select * from final
order by dimension_rank, revenue desc, dimension_value
