-- App and web engagement by generation: adoption, sessions over 30 and 90 days, spend.
with customers as (
    select
        generation as generation_value,
        is_app_adopter,
        app_sessions_30d,
        web_sessions_30d,
        app_sessions_90d,
        web_sessions_90d,
        total_spent
    from customer_360
),

final as (
    select
        coalesce(generation_value, 'Unknown') as generation,
        count(*) as customers,
        sum(case when is_app_adopter then 1 else 0 end) as app_adopters,
        round(avg(case when is_app_adopter then 1 else 0 end), 4) as app_adoption_rate,
        sum(
            case when app_sessions_90d + web_sessions_90d > 0 then 1 else 0 end
        ) as digitally_active_90d,
        round(avg(app_sessions_30d), 2) as avg_app_sessions_30d,
        round(avg(web_sessions_30d), 2) as avg_web_sessions_30d,
        round(avg(app_sessions_90d), 2) as avg_app_sessions_90d,
        round(avg(web_sessions_90d), 2) as avg_web_sessions_90d,
        round(avg(total_spent), 2) as avg_total_spent,
        case generation_value
            when 'Gen Z' then 1
            when 'Millennial' then 2
            when 'Gen X' then 3
            when 'Boomer' then 4
            when 'Silent' then 5
            else 6
        end as generation_rank
    from customers
    group by generation_value
)

select * from final
order by generation_rank, generation
