-- One customer's whole 360 row ($customer_id); the API groups its columns into sections.
with customers as (
    select *
    from customer_360
),

final as (
    select *
    from customers
    where customer_id = $customer_id
)

select * from final
order by customer_id
