-- Loyalty tiers: customers, programme members, points and spend, and the spend still needed
-- to reach the next tier.
with customers as (
    select
        loyalty_tier,
        is_loyalty_member,
        loyalty_points,
        revenue_12m,
        next_loyalty_tier,
        spend_to_next_tier
    from customer_360
),

final as (
    select
        loyalty_tier,
        count(*) as customers,
        sum(case when is_loyalty_member then 1 else 0 end) as loyalty_members,
        round(cast(count(*) as double) / sum(count(*)) over (), 4) as customer_share,
        sum(loyalty_points) as total_loyalty_points,
        round(avg(loyalty_points), 1) as avg_loyalty_points,
        round(sum(revenue_12m), 2) as revenue_12m,
        round(avg(revenue_12m), 2) as avg_revenue_12m,
        round(avg(spend_to_next_tier), 2) as avg_spend_to_next_tier,
        case loyalty_tier
            when 'Platinum' then 1
            when 'Gold' then 2
            when 'Silver' then 3
            when 'Bronze' then 4
            else 5
        end as tier_rank
    from customers
    group by loyalty_tier
)

select * from final
order by tier_rank, loyalty_tier
