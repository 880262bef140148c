-- The articles behind a figure: every rescue figure credited to INTERPOL, with the sentence
-- it was read from and where that sentence sits in the source document.
select
    articles.source_file,
    articles.title,
    articles.published_date,
    statistics.metric,
    statistics.value,
    statistics.qualifier,
    statistics.evidence,
    statistics.char_start,
    statistics.char_end

from marts.fct_statistics as statistics
inner join marts.dim_articles as articles
    on statistics.article_id = articles.article_id
inner join marts.bridge_article_entities as entities
    on statistics.article_id = entities.article_id
where
    entities.entity_type = 'agency'
    and entities.entity_id = 'INTERPOL'
    and statistics.metric = 'rescued'
order by statistics.value desc, statistics.char_start
