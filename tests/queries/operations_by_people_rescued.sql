-- The operations (in-scope articles) that rescued the most people, with who ran them and where.
select
    incidents.title,
    incidents.published_date,
    incidents.operations,
    incidents.agencies,
    incidents.countries,
    incidents.rescued,
    incidents.arrested

from marts.fct_incidents as incidents
where incidents.rescued is not null
order by incidents.rescued desc, incidents.title
limit 10
