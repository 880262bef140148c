{#-
    The lake's sources are views over Arrow datasets that dbt-duckdb's delta plugin registers
    in dbt's own process, and the staging models are views over them: once dbt exits, none
    of them can be read. Dropped at the end of a run, so the published warehouse holds only
    what a BI tool can query (the marts and the reference seeds).
-#}
{% macro drop_lake_views() %}
    {% if execute %}
        {% for schema in ["lake", "staging"] %}
            {% do run_query("drop schema if exists " ~ adapter.quote(schema) ~ " cascade") %}
        {% endfor %}
    {% endif %}
{% endmacro %}
