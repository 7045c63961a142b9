-- Support by customer status: tickets, open tickets, satisfaction, resolution time,
-- complaints and interactions.
with customers as (
    select
        customer_status,
        tickets_total,
        open_tickets,
        avg_satisfaction,
        avg_resolution_hours,
        complaints_90d,
        interactions_total
    from customer_360
),

final as (
    select
        customer_status,
        count(*) as customers,
        sum(case when tickets_total > 0 then 1 else 0 end) as customers_with_tickets,
        sum(tickets_total) as tickets,
        sum(open_tickets) as open_tickets,
        round(avg(avg_satisfaction), 2) as avg_satisfaction,
        round(avg(avg_resolution_hours), 1) as avg_resolution_hours,
        sum(complaints_90d) as complaints_90d,
        sum(interactions_total) as interactions,
        round(avg(interactions_total), 2) as avg_interactions
    from customers
    group by customer_status
)

select * from final
order by customers desc, customer_status
