-- Customer profiles with a status filter ($customer_statuses, a list) and a minimum health
-- score, healthiest first.
with customers as (
    select
        customer_id,
        customer_name,
        email,
        region,
        customer_segment,
        generation,
        customer_status,
        lifecycle_stage,
        rfm_segment,
        loyalty_tier,
        orders,
        total_spent,
        last_purchase_date,
        customer_health_score,
        p_alive,
        predicted_clv_12m,
        risk_status
    from customer_360
),

final as (
    select *
    from customers
    where
        array_contains($customer_statuses, customer_status)
        and customer_health_score >= $min_health_score
)

select * from final
order by customer_health_score desc, customer_id
