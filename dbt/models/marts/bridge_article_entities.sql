with

entities as (

    select * from {{ ref('int_article_entities_grouped') }}

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
