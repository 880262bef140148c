-- Arrests by agency and year: per incident its reconciled arrest figure, added up over the
-- incidents that name the agency (an incident naming two agencies counts for both).
select
    agencies.name as agency,
    agency_years.agency_id,
    agency_years.reported_year,
    agency_years.incident_count,
    agency_years.arrested
from marts.agg_agency_year as agency_years
inner join marts.dim_agencies as agencies
    on agency_years.agency_id = agencies.agency_id
where agency_years.arrested is not null
order by agency_years.agency_id, agency_years.reported_year
