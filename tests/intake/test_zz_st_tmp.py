import collections, json
import pytest, schemathesis
from hypothesis import settings, HealthCheck
from tests.intake.test_schema_fuzzing import schema, CHECKS, MAX_EXAMPLES
pytestmark = pytest.mark.django_db

@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_api(case):
    r = case.call_and_validate(checks=CHECKS)
    mode = case.meta.generation.mode.value if case.meta else None
    if mode == "positive" and case.method == "POST":
        with open("/tmp/st_pos.txt", "a") as f:
            f.write(f"{case.operation.label}\t{case.media_type}\t{r.status_code}\t{case.meta.phase.name}\t{r.text[:300]}\n")
