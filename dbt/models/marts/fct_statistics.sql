with

statistics as (

    select * from {{ ref('int_statistics_deduplicated') }}

),

final as (

    select
        statistic_id,
        article_id,
        doc_id,
        metric,
        value,
        qualifier,
        unit,
        currency,
        subject,
        evidence,
        char_start,
        char_end,
        published_date

    from statistics

)

select * from final
