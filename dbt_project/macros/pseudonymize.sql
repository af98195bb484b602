{#
    The one place natural keys and personal identifiers become pseudonymous keys.

    Every channel identifier that points at a person (CRM customer_id, account number, card PAN,
    platform user_id, normalised phone / e-mail / ID number) goes through this macro in staging,
    so equal inputs give equal keys across channels and identity resolution can join on keys
    without ever seeing the clear value. NULL in, NULL out.

    Scheme: HMAC-SHA256 (RFC 2104) keyed with FUNDFLOW_PII_KEY, lower-case hex: the standard
    keyed hash (a bare sha256(key || value) is open to length extension), so without the key
    the small value spaces (11-digit phones, 18-digit IDs) cannot be brute-forced from the keys. DuckDB has no hmac(), but its sha256() accepts
    BLOB, so HMAC is spelled out: sha256(opad_key || unhex(sha256(ipad_key || message))). The two
    64-byte pads depend only on the key, so Jinja computes them once at compile time and the SQL
    holds two constants. tests/security/test_pseudonymize.py compares the result with Python's
    hmac.new(key, msg, sha256).hexdigest().

    Outside demo mode (FUNDFLOW_DEMO=0, exported by fundflow from warehouse.settings) a missing
    key or the public demo key is refused at compile time.
#}
{% macro pseudonymize(expr) -%}
    {%- set pads = fundflow_hmac_pads() -%}
    sha256(unhex('{{ pads.opad }}') || unhex(sha256(unhex('{{ pads.ipad }}') || encode(cast({{ expr }} as varchar)))))
{%- endmacro %}


{% macro fundflow_pii_key() -%}
    {%- set demo_key = 'fundflow-demo-key' -%}
    {%- set key = env_var('FUNDFLOW_PII_KEY', '') -%}
    {#- fundflow always exports the resolved mode; a bare `dbt build` with no setting is the demo. -#}
    {%- set demo_mode = env_var('FUNDFLOW_DEMO', '1') | trim not in ('0', 'false', 'no') -%}
    {#- Checked when models run, not while dbt parses (Dagster parses to load its definitions). -#}
    {%- if execute and not demo_mode and (key | trim == '' or key == demo_key) -%}
        {{ exceptions.raise_compiler_error(
            "FUNDFLOW_PII_KEY is " ~ ("not set" if key | trim == '' else "the public demo key") ~
            " and FUNDFLOW_DEMO=0 (not demo mode): refusing to pseudonymise real personal data with a known key. "
            ~ "Set FUNDFLOW_PII_KEY to a secret of 16 to 64 bytes (e.g. `openssl rand -hex 32`).") }}
    {%- endif -%}
    {{ return(key if key | trim != '' else demo_key) }}
{%- endmacro %}


{#
    HMAC inner / outer pads as hex: the key's UTF-8 bytes, zero-padded to SHA-256's 64-byte
    block, XOR 0x36 / 0x5c. Jinja has no XOR operator, so the XOR is done bit by bit. RFC 2104
    hashes a key longer than the block first; Jinja has no sha256, so such a key is refused
    instead (a 32-byte random key written as 64 hex characters fits).
#}
{% macro fundflow_hmac_pads() -%}
    {%- set key_bytes = fundflow_pii_key().encode('utf-8') | list -%}
    {%- if key_bytes | length > 64 -%}
        {{ exceptions.raise_compiler_error("FUNDFLOW_PII_KEY is longer than 64 bytes; use a key of at most 64 bytes.") }}
    {%- endif -%}
    {%- set ipad = [] -%}
    {%- set opad = [] -%}
    {%- for position in range(64) -%}
        {%- set key_byte = key_bytes[position] if position < key_bytes | length else 0 -%}
        {%- set inner = namespace(value=0) -%}
        {%- set outer = namespace(value=0) -%}
        {%- for bit in range(8) -%}
            {%- set weight = 2 ** bit -%}
            {%- set key_bit = (key_byte // weight) % 2 -%}
            {%- if key_bit != (54 // weight) % 2 -%}{%- set inner.value = inner.value + weight -%}{%- endif -%}
            {%- if key_bit != (92 // weight) % 2 -%}{%- set outer.value = outer.value + weight -%}{%- endif -%}
        {%- endfor -%}
        {%- do ipad.append('%02x' % inner.value) -%}
        {%- do opad.append('%02x' % outer.value) -%}
    {%- endfor -%}
    {{ return({'ipad': ipad | join(''), 'opad': opad | join('')}) }}
{%- endmacro %}
