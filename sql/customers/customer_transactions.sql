-- One customer's purchase history ($customer_id), with optional date, category, channel and
-- amount filters (a null parameter filters nothing), newest first. The customer predicate stays
-- a plain equality so that DuckDB skips the row groups of other customers (the file is sorted by
-- customer). The API replaces the final order by with the client's sort (date or amount).
with customer_transactions as (
    select
        transaction_id,
        transaction_date,
        category,
        product_id,
        quantity,
        amount,
        channel,
        store_id,
        region
    from transactions
    where customer_id = $customer_id
),

final as (
    select *
    from customer_transactions
    where
        ($start_date is null or transaction_date >= $start_date)
        and ($end_date is null or transaction_date <= $end_date)
        and ($category is null or category = $category)
        and ($channel is null or channel = $channel)
        and ($min_amount is null or amount >= $min_amount)
        and ($max_amount is null or amount <= $max_amount)
)

select * from final
order by transaction_date desc, transaction_id
