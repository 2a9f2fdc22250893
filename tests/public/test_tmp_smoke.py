import time
import pytest
pytestmark = pytest.mark.django_db
def test_scenario(world, client):
    from tests.public import scenario as s
    t=time.perf_counter(); s.generate_slots(world); print("slots", time.perf_counter()-t)
    t=time.perf_counter(); f = s.file(world); print("file", time.perf_counter()-t)
    t=time.perf_counter(); f = s.file(world); print("file", time.perf_counter()-t)
    t=time.perf_counter(); sc = s.schedule(f, s.free_slot(world)); print("schedule", time.perf_counter()-t)
    for name in ["status_by_link", "appointment", "convocation_pdf", "convocation_pdf", "appointment_ics"]:
        t=time.perf_counter(); r = client.get(f.url(name)); print(name, r.status_code, time.perf_counter()-t)
