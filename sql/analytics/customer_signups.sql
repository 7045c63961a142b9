-- New customers per month of their signup date (customers without one are left out).
with customers as (
    select signup_date
    from customer_360
),

final as (
    select
        cast(date_trunc('month', signup_date) as date) as signup_month,
        count(*) as signups
    from customers
    where signup_date is not null
    group by cast(date_trunc('month', signup_date) as date)
)

select * from final
order by signup_month
