-- The incidents that rescued the most people, with who ran them, where, and how many
-- articles report each (counted once however many outlets told it).
select
    incidents.title,
    incidents.first_reported_date,
    incidents.article_count,
    incidents.operations,
    incidents.agencies,
    incidents.countries,
    incidents.rescued,
    incidents.arrested

from marts.fct_incidents as incidents
where incidents.rescued is not null
order by incidents.rescued desc, incidents.title
limit 10
