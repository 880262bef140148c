{#- The figures of `statistics` in in-scope articles of `articles`, each said once
    (int_statistics_deduplicated says how); fct_statistics adds those of the rows added since
    the published build with it. -#}
{% macro in_scope_statistics(statistics, articles) %}
with

statistics as (

    select * from {{ statistics }}

),

articles as (

    select * from {{ articles }}

),

in_scope_articles as (

    select
        article_id,
        published_date

    from articles
    where is_relevant and not is_duplicate

),

in_scope_statistics as (

    select
        statistics.statistic_id,
        statistics.article_id,
        statistics.doc_id,
        statistics.metric,
        statistics.value,
        statistics.qualifier,
        statistics.unit,
        statistics.currency,
        statistics.subject,
        statistics.evidence,
        statistics.char_start,
        statistics.char_end,
        in_scope_articles.published_date

    from statistics
    inner join in_scope_articles
        on statistics.article_id = in_scope_articles.article_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by article_id, metric, value, currency
            order by char_start, statistic_id
        ) as mention_rank

    from in_scope_statistics

),

deduplicated as (

    select * exclude (mention_rank)

    from ranked
    where mention_rank = 1

)

select * from deduplicated
{% endmacro %}
