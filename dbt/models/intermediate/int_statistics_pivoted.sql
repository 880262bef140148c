-- One row per in-scope article that has figures, with one column per counted metric
-- holding the largest value the article gives for it. Money metrics (price, amount) and
-- the catch-all count are left out: they are not comparable across rows.

{%- set pivoted_metrics = var('pivoted_metrics') %}

with

statistics as (

    select * from {{ ref('int_statistics_deduplicated') }}

),

pivoted as (

    select
        article_id,
        {%- for metric in pivoted_metrics %}
            max(value) filter (where metric = '{{ metric }}') as {{ metric }},
        {%- endfor %}
        count(*) as statistic_count

    from statistics
    group by article_id

)

select * from pivoted
