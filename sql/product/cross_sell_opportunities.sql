-- Cross-sell candidates by opportunity (channel expansion, tier upgrade, category association)
-- and recommendation: how many customers, how strong.
with candidates as (
    select
        opportunity_type,
        recommendation,
        score
    from cross_sell_candidates
),

final as (
    select
        opportunity_type,
        recommendation,
        count(*) as customers,
        round(avg(score), 4) as avg_score,
        round(max(score), 4) as max_score
    from candidates
    group by opportunity_type, recommendation
)

select * from final
order by opportunity_type, customers desc, recommendation
