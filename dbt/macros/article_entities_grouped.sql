{#- The mentions of `entities` grouped to one row per article and entity, for the articles
    of `articles` (int_article_entities_grouped says how); bridge_article_entities adds those
    of the rows added since the published build with it. -#}
{% macro article_entities_grouped(entities, articles) %}
with

entities as (

    select * from {{ entities }}

),

articles as (

    select * from {{ articles }}

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
{% endmacro %}
