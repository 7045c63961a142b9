-- The segments one customer ($customer_id) belongs to now; no row for an unknown customer,
-- which is how the per-customer routes tell a 404.
with customers as (
    select
        customer_id,
        rfm_segment,
        customer_segment,
        lifecycle_stage,
        loyalty_tier,
        customer_status
    from customer_360
),

final as (
    select *
    from customers
    where customer_id = $customer_id
)

select * from final
order by customer_id
