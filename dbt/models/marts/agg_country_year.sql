with

entity_years as (

    select * from {{ ref('int_entity_years') }}

),

country_years as (

    select * exclude (entity_type) rename (entity_id as country_id)
    from entity_years
    where entity_type = 'country'

)

select * from country_years
