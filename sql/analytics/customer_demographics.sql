-- Customers by generation, region, segment, loyalty tier and status in one pass (grouping
-- sets; the empty set is the whole base, dimension 'all'): customers, share of the base,
-- lifetime spend and predicted 12-month CLV. Grouped by the columns themselves and labelled
-- afterwards (see marketing/customer_segmentation.sql); a missing value is 'Unknown'.
with customers as (
    select
        generation,
        region,
        customer_segment,
        loyalty_tier,
        customer_status,
        total_spent,
        predicted_clv_12m
    from customer_360
),

grouped as (
    select
        case
            when grouping(generation) = 0 then 'generation'
            when grouping(region) = 0 then 'region'
            when grouping(customer_segment) = 0 then 'customer_segment'
            when grouping(loyalty_tier) = 0 then 'loyalty_tier'
            when grouping(customer_status) = 0 then 'customer_status'
            else 'all'
        end as dimension,
        coalesce(
            cast(generation as string),
            cast(region as string),
            cast(customer_segment as string),
            cast(loyalty_tier as string),
            cast(customer_status as string)
        ) as dimension_value,
        count(*) as customers,
        sum(total_spent) as total_spent,
        avg(total_spent) as avg_total_spent,
        sum(predicted_clv_12m) as predicted_clv_12m
    from customers
    group by grouping sets (
        (generation), (region), (customer_segment), (loyalty_tier), (customer_status), ()
    )
),

final as (
    select
        dimension,
        case
            when dimension = 'all' then 'all'
            else coalesce(dimension_value, 'Unknown')
        end as dimension_value,
        customers,
        round(cast(customers as double) / sum(customers) over (partition by dimension), 4)
            as customer_share,
        round(total_spent, 2) as total_spent,
        round(avg_total_spent, 2) as avg_total_spent,
        round(predicted_clv_12m, 2) as predicted_clv_12m,
        case dimension
            when 'all' then 0
            when 'generation' then 1
            when 'region' then 2
            when 'customer_segment' then 3
            when 'loyalty_tier' then 4
            else 5
        end as dimension_rank
    from grouped
)

select * from final
order by dimension_rank, customers desc, dimension_value
