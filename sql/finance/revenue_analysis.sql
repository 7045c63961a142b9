-- Revenue per month: revenue, orders, average order value, gross margin, units, and the
-- change from the previous month.
with monthly as (
    select
        month_date,
        revenue,
        orders,
        gross_margin,
        units
    from revenue_monthly
),

months as (
    select
        month_date,
        sum(revenue) as revenue,
        sum(orders) as orders,
        sum(gross_margin) as gross_margin,
        sum(units) as units
    from monthly
    group by month_date
),

final as (
    select
        month_date,
        round(revenue, 2) as revenue,
        orders,
        round(revenue / nullif(orders, 0), 2) as avg_order_value,
        round(gross_margin, 2) as gross_margin,
        units,
        round(
            (revenue - lag(revenue) over (order by month_date))
            / nullif(lag(revenue) over (order by month_date), 0),
            4
        ) as revenue_change
    from months
)

select * from final
order by month_date
