-- Mentions grouped to one row per article and entity, for articles that exist (a mention
-- of an article the segmenter no longer produces is dropped).

with

entities as (

    select * from {{ ref('stg_lake__entities') }}

),

articles as (

    select * from {{ ref('stg_lake__articles') }}

),

grouped as (

    select
        article_id,
        entity_type,
        entity_id,
        count(*) as mention_count,
        min(char_start) as first_char_start,
        arg_min(mention, char_start) as first_mention

    from entities
    group by article_id, entity_type, entity_id

),

grouped_for_known_articles as (

    select
        grouped.article_id,
        articles.doc_id,
        grouped.entity_type,
        grouped.entity_id,
        grouped.mention_count,
        grouped.first_char_start,
        grouped.first_mention,
        articles.is_relevant and not articles.is_duplicate as is_in_scope

    from grouped
    inner join articles
        on grouped.article_id = articles.article_id

)

select * from grouped_for_known_articles
