"""A small but complete configuration document for the configuration tests."""

SAMPLE = """\
version: 1
settings:
  cycle_hour: 7
  catch_up_days: 5
  payment_stop_days: 3
  long_hold_days: 20
  manual_stage_days: 15
  broken_promise_factor: '0.750'
  fallback_probability:
    current: '0.90'
    1-30: '0.70'
    31-60: '0.50'
    61-90: '0.35'
    91-180: '0.20'
    181-360: '0.10'
    360+: '0.05'
templates:
  - code: aviso
    channel: email
    language: es
    name: Aviso de mora
    subject: Tu cuenta tiene saldo vencido
    body: |
      Hola {{ debtor.name }}:
      Tu saldo vencido es {{ case.overdue_balance }}.
    active: true
  - code: recordatorio
    channel: sms
    language: es
    name: Recordatorio
    subject: ''
    body: Hola {{ debtor.name }}, tu saldo vence pronto.
    active: true
segments:
  - code: saldo-alto
    name: Saldo alto
    priority: 10
    rule: balance >= 50000
    description: ''
    active: true
  - code: tarjeta
    name: Tarjeta
    priority: 20
    rule: product in ("tarjeta") and dpd between 1 and 90
    description: Clientes de tarjeta
    active: true
stages:
  - code: preventiva
    name: Preventiva
    kind: preventive
    position: 1
    entry_offset: -5
    entry_rule: ''
    exits_when_cured: true
    priority_weight: '0.50'
    active: true
  - code: administrativa
    name: Administrativa
    kind: administrative
    position: 2
    entry_offset: 1
    entry_rule: ''
    exits_when_cured: true
    priority_weight: '1.00'
    active: true
strategies:
  - code: preventiva-general
    name: Preventiva general
    stage: preventiva
    segment: null
    description: ''
    active: true
    variants:
      - code: campeon
        name: Campeón
        champion: true
        share: 100
        active: true
        steps:
          - name: SMS antes del vencimiento
            anchor: due_date
            offset_days: -3
            weekdays: '12345'
            action: message
            channel: sms
            template: recordatorio
            condition: ''
            stop_on: [payment, promise, dispute, plan, in_transit]
            active: true
  - code: administrativa-alto
    name: Administrativa saldo alto
    stage: administrativa
    segment: saldo-alto
    description: ''
    active: true
    variants:
      - code: campeon
        name: Campeón
        champion: true
        share: 80
        active: true
        steps:
          - name: Correo de aviso
            anchor: stage_entry
            offset_days: 0
            weekdays: ''
            action: message
            channel: email
            template: aviso
            condition: ''
            stop_on: [payment, promise]
            active: true
          - name: Llamada
            anchor: stage_entry
            offset_days: 5
            weekdays: '123456'
            action: task
            task_kind: call
            condition: balance >= 1000
            stop_on: [payment, promise, dispute, plan, in_transit]
            active: true
      - code: retador
        name: Retador
        champion: false
        share: 20
        active: true
        steps:
          - name: Llamada inmediata
            anchor: stage_entry
            offset_days: 0
            weekdays: ''
            action: task
            task_kind: call
            condition: ''
            stop_on: [payment]
            active: true
"""


def make_case(cast, debtor=None, *, portfolio=None, dpd: int = 45, amount: str = "1000.00"):
    """An open case from one overdue document, built by the case engine."""
    import datetime as dt

    from recobro.portfolio.engine import refresh_cases
    from recobro.portfolio.models import Case
    from tests.conftest import AS_OF, make_document

    portfolio = portfolio or cast.retail
    debtor = debtor or cast.eva
    for org in (cast.mx, cast.co):
        if org.business_date_override != AS_OF:
            org.business_date_override = AS_OF
            org.save(update_fields=["business_date_override"])
    number = f"D-{debtor.pk}-{portfolio.pk}-{dpd}"
    document = make_document(portfolio, debtor, number, amount, AS_OF - dt.timedelta(days=dpd))
    refresh_cases(organization=portfolio.organization, as_of=AS_OF)
    return Case.objects.get(portfolio=portfolio, debtor=debtor), document
