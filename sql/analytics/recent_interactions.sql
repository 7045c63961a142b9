-- The organisation's latest interactions up to the end of the snapshot's as-of day ($as_of),
-- latest first (the dashboard shows the first few).
with interaction_log as (
    select
        interaction_id,
        customer_id,
        interaction_type,
        status,
        interaction_at,
        channel,
        duration_minutes
    from interactions
),

final as (
    select *
    from interaction_log
    where interaction_at < cast($as_of + 1 as timestamp)
)

select * from final
order by interaction_at desc, interaction_id
