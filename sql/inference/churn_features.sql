-- The churn model's raw features of the customers in $customer_ids (a list): one column per
-- model feature, as of the snapshot's as-of date, before fill and transform (the API scores
-- them with the model in models/churn.json). Customers without a purchase have no row.
with features as (
    select *
    from churn_features
),

final as (
    select *
    from features
    where array_contains($customer_ids, features.customer_id)
)

select * from final
order by customer_id
