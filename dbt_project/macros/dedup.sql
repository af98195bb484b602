{#
    The exact-copy rule every *_deduped model applies, in one place: usable staging rows (no
    reject_reason) without re-delivered copies. A copy = the same natural key and the same
    delivered values (row_hash is part of key_columns); the first by order_columns is kept and
    duplicate_count says how many copies were dropped (the copies are counted, never lost).
    Each model says in its header why its key is what it is.
#}
{% macro exact_copies_removed(staging_model, key_columns, order_columns=['_source_file', '_source_line']) -%}
    with staged as (

        select * from {{ ref(staging_model) }}
        where reject_reason is null

    ),

    ranked as (

        select
            *,
            row_number() over copies as copy_number,
            count(*) over (partition by {{ key_columns | join(', ') }}) - 1 as duplicate_count
        from staged
        window copies as (partition by {{ key_columns | join(', ') }} order by {{ order_columns | join(', ') }})

    )

    select * exclude (copy_number, reject_reason)
    from ranked
    where copy_number = 1
{%- endmacro %}
