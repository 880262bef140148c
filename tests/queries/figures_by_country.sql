-- Figures per country over all years: incidents naming the country and the sums of their
-- figures (an incident naming several countries counts in full for each).
select
    countries.name as country,
    country_years.country_id,
    countries.region,
    sum(country_years.incident_count) as incidents,
    sum(country_years.statistic_count) as figures,
    sum(country_years.arrested) as arrested,
    sum(country_years.rescued) as rescued,
    sum(country_years.victims) as victims,
    sum(country_years.migrants) as migrants

from marts.agg_country_year as country_years
inner join marts.dim_countries as countries
    on country_years.country_id = countries.country_id
group by countries.name, country_years.country_id, countries.region
having sum(country_years.incident_count) > 0
order by incidents desc, figures desc, country_years.country_id
