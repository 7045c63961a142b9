-- One customer's interactions up to the end of the snapshot's as-of day ($as_of), latest first
-- (the API pages the first `recent_limit` of them).
with customer_interactions as (
    select
        interaction_id,
        interaction_type,
        status,
        interaction_at,
        channel,
        duration_minutes
    from interactions
    where customer_id = $customer_id
),

final as (
    select *
    from customer_interactions
    where interaction_at < cast($as_of + 1 as timestamp)
)

select * from final
order by interaction_at desc, interaction_id
