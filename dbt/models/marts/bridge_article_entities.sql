-- Incremental: a build that starts from a copy of the published warehouse (the pipeline's,
-- when the lake has only gained rows since: tracelake/stages.py, added_since) adds the rows
-- of the lake's entities added since; every other build makes the table whole.
-- depends_on: {{ ref('stg_lake__entities_added') }}, {{ ref('stg_lake__articles') }}
{{
    config(
        materialized='incremental',
        unique_key=['article_id', 'entity_type', 'entity_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail'
    )
}}

with

entities as (

    {% if is_incremental() %}
        {{ article_entities_grouped(ref('stg_lake__entities_added'), ref('stg_lake__articles')) }}
    {% else %}
        select * from {{ ref('int_article_entities_grouped') }}
    {% endif %}

),

final as (

    select
        article_id,
        doc_id,
        entity_type,
        entity_id,
        mention_count,
        first_char_start,
        first_mention

    from entities

)

select * from final
