with

entity_years as (

    select * from {{ ref('int_entity_years') }}

),

agency_years as (

    select * exclude (entity_type) rename (entity_id as agency_id)
    from entity_years
    where entity_type = 'agency'

)

select * from agency_years
