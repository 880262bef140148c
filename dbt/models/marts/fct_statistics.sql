-- Incremental: a build that starts from a copy of the published warehouse (the pipeline's,
-- when the lake has only gained rows since: tracelake/stages.py, added_since) adds the rows
-- of the lake's statistics added since; every other build makes the table whole.
-- depends_on: {{ ref('stg_lake__statistics_added') }}, {{ ref('stg_lake__articles') }}
{{
    config(
        materialized='incremental',
        unique_key='statistic_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

statistics as (

    {% if is_incremental() %}
        {{ in_scope_statistics(ref('stg_lake__statistics_added'), ref('stg_lake__articles')) }}
    {% else %}
        select * from {{ ref('int_statistics_deduplicated') }}
    {% endif %}

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
