-- Lifecycle stages: size, tenure, spend, the 90-day revenue trend, health and churn risk.
with customers as (
    select
        lifecycle_stage,
        tenure_days,
        total_spent,
        revenue_90d,
        revenue_prev_90d,
        customer_health_score,
        p_alive,
        risk_status
    from customer_360
),

final as (
    select
        lifecycle_stage,
        count(*) as customers,
        round(cast(count(*) as double) / sum(count(*)) over (), 4) as customer_share,
        round(avg(tenure_days), 1) as avg_tenure_days,
        round(avg(total_spent), 2) as avg_total_spent,
        round(sum(revenue_90d), 2) as revenue_90d,
        round(sum(revenue_prev_90d), 2) as revenue_prev_90d,
        round(avg(customer_health_score), 2) as avg_health_score,
        round(avg(p_alive), 4) as avg_p_alive,
        sum(case when risk_status = 'High Risk' then 1 else 0 end) as high_risk_customers,
        case lifecycle_stage
            when 'Prospect' then 1
            when 'New' then 2
            when 'Growing' then 3
            when 'Mature' then 4
            when 'Declining' then 5
            when 'Lapsed' then 6
            else 7
        end as stage_rank
    from customers
    group by lifecycle_stage
)

select * from final
order by stage_rank, lifecycle_stage
