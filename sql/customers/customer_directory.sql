-- The customer directory: a compact row per customer. $search matches a case-insensitive
-- substring of the id, name or email; every other parameter is an exact-match or range filter.
-- A null parameter filters nothing (DuckDB folds `null is null or ...` away before planning).
-- The API replaces the final order by with the client's whitelisted sort.
with customers as (
    select
        customer_id,
        customer_name,
        email,
        region,
        customer_segment,
        generation,
        customer_status,
        lifecycle_stage,
        rfm_segment,
        loyalty_tier,
        orders,
        total_spent,
        last_purchase_date,
        customer_health_score,
        p_alive,
        predicted_clv_12m,
        risk_status
    from customer_360
),

final as (
    select *
    from customers
    where
        (
            $search is null
            or contains(lower(customer_id), lower($search))
            or contains(lower(customer_name), lower($search))
            or contains(lower(email), lower($search))
        )
        and ($customer_segment is null or customer_segment = $customer_segment)
        and ($rfm_segment is null or rfm_segment = $rfm_segment)
        and ($loyalty_tier is null or loyalty_tier = $loyalty_tier)
        and ($customer_status is null or customer_status = $customer_status)
        and ($lifecycle_stage is null or lifecycle_stage = $lifecycle_stage)
        and ($region is null or region = $region)
        and ($generation is null or generation = $generation)
        and ($min_total_spent is null or total_spent >= $min_total_spent)
        and ($max_total_spent is null or total_spent <= $max_total_spent)
        and ($min_health_score is null or customer_health_score >= $min_health_score)
        and ($max_health_score is null or customer_health_score <= $max_health_score)
)

select * from final
order by customer_id
