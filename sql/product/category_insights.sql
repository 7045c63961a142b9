-- Every category: revenue, orders, customers, margin, share of revenue, repeat rate.
with categories as (
    select
        category,
        revenue,
        orders,
        customers,
        avg_order_value,
        units,
        gross_margin,
        margin_pct,
        revenue_share,
        repeat_customer_rate,
        first_sale_date,
        last_sale_date
    from category_insights
),

final as (
    select * from categories
)

select * from final
order by revenue desc, category
