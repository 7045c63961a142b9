-- Lifetime value by customer segment: historic value to date and the predicted next 12 months.
with customers as (
    select
        customer_segment as segment_value,
        orders,
        historic_clv,
        total_spent,
        historic_gross_margin,
        predicted_clv_12m,
        p_alive
    from customer_360
),

final as (
    select
        coalesce(segment_value, 'Unknown') as customer_segment,
        count(*) as customer_count,
        sum(case when orders > 0 then 1 else 0 end) as buyers,
        round(avg(historic_clv), 2) as avg_lifetime_value,
        round(sum(total_spent), 2) as total_revenue,
        round(sum(historic_gross_margin), 2) as total_gross_margin,
        round(avg(predicted_clv_12m), 2) as avg_predicted_clv_12m,
        round(sum(predicted_clv_12m), 2) as total_predicted_clv_12m,
        round(avg(p_alive), 4) as avg_p_alive
    from customers
    group by segment_value
)

select * from final
order by total_revenue desc, customer_segment
