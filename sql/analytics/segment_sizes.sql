-- The RFM segments that exist, with their customers (customers without a purchase have no RFM
-- segment and are shown as 'No Purchases', as in marketing/customer_segmentation.sql).
with customers as (
    select rfm_segment as segment_value
    from customer_360
),

final as (
    select
        coalesce(segment_value, 'No Purchases') as rfm_segment,
        count(*) as customers,
        round(cast(count(*) as double) / sum(count(*)) over (), 4) as customer_share
    from customers
    group by segment_value
)

select * from final
order by customers desc, rfm_segment
