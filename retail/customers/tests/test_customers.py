"""Customers stored pseudonymised: keyed lookups, encrypted display value, logged reveals."""

import base64
import threading

import pytest
from cryptography.exceptions import InvalidTag
from django.db import connection

from retail.customers import pii, selectors, services
from retail.customers.models import Customer, PiiAccessLog

CPF = "123.456.789-09"


@pytest.mark.django_db
def test_the_cpf_is_stored_neither_in_clear_nor_as_a_plain_hash():
    import hashlib

    customer = services.customer_upsert(name="Ana", email="ana@example.com", cpf=CPF)

    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(c)::text FROM customers_customer c")
        (row,) = cursor.fetchone()
    assert "12345678909" not in row
    assert "456.789" not in row.replace("***.456.789-**", "")
    assert hashlib.sha256(b"12345678909").hexdigest() not in row
    assert customer.cpf_hmac == pii.lookup_hash("12345678909")
    assert customer.cpf_masked == "***.456.789-**"


@pytest.mark.django_db
def test_same_cpf_in_either_spelling_is_the_same_customer_with_fresh_contact_data():
    first = services.customer_upsert(name="Ana", email="ana@example.com", cpf=CPF)
    second = services.customer_upsert(name="Ana Maria", email="am@example.com", cpf="12345678909")

    assert second.pk == first.pk
    assert Customer.objects.count() == 1
    stored = Customer.objects.get()
    assert (stored.name, stored.email) == ("Ana Maria", "am@example.com")
    assert selectors.customer_get_by_cpf("12345678909").pk == first.pk


@pytest.mark.django_db
def test_a_reveal_returns_the_cpf_and_logs_who_and_why():
    customer = services.customer_upsert(name="Ana", email="ana@example.com", cpf=CPF)

    revealed = services.customer_reveal_cpf(customer=customer, actor="compliance:7", reason="COAF")

    assert revealed == "12345678909"
    log = PiiAccessLog.objects.get()
    assert (log.customer_id, log.field, log.actor, log.reason) == (
        customer.pk,
        "cpf",
        "compliance:7",
        "COAF",
    )


@pytest.mark.django_db
def test_a_reveal_without_a_reason_reveals_nothing_and_logs_nothing():
    customer = services.customer_upsert(name="Ana", email="ana@example.com", cpf=CPF)
    with pytest.raises(ValueError, match="reason"):
        services.customer_reveal_cpf(customer=customer, actor="someone", reason="  ")
    assert not PiiAccessLog.objects.exists()


def test_ciphertexts_differ_each_time_and_tampering_is_detected(settings):
    one, two = pii.encrypt("12345678909"), pii.encrypt("12345678909")
    assert one != two
    assert pii.decrypt(one) == pii.decrypt(two) == "12345678909"
    tampered = one[:-1] + bytes([one[-1] ^ 1])
    with pytest.raises(InvalidTag):
        pii.decrypt(tampered)


def test_the_keys_are_settings_of_their_own_not_derived_from_secret_key(settings):
    lookup, blob = pii.lookup_hash("12345678909"), pii.encrypt("12345678909")
    settings.SECRET_KEY = "a-different-secret-key"
    assert (pii.lookup_hash("12345678909"), pii.decrypt(blob)) == (lookup, "12345678909")

    settings.PII_HMAC_KEY = "another-key"
    assert pii.lookup_hash("12345678909") != lookup


def test_a_rotated_encryption_key_still_reads_rows_written_under_the_previous_one(settings):
    previous = settings.PII_ENCRYPTION_KEYS[0]
    old_blob = pii.encrypt("12345678909")
    settings.PII_ENCRYPTION_KEYS = ["k2:" + base64.b64encode(b"n" * 32).decode(), previous]

    new_blob = pii.encrypt("98765432100")

    assert (pii.key_id(old_blob), pii.key_id(new_blob)) == (previous.split(":")[0], "k2")
    assert (pii.decrypt(old_blob), pii.decrypt(new_blob)) == ("12345678909", "98765432100")
    settings.PII_ENCRYPTION_KEYS = settings.PII_ENCRYPTION_KEYS[:1]  # the old key retired
    with pytest.raises(ValueError, match="not in PII_ENCRYPTION_KEYS"):
        pii.decrypt(old_blob)


def test_a_ciphertext_moved_to_another_key_id_does_not_decrypt(settings):
    key = settings.PII_ENCRYPTION_KEYS[0].split(":")[1]
    settings.PII_ENCRYPTION_KEYS = ["a:" + key, "b:" + key]  # the same bytes under two ids
    blob = pii.encrypt("12345678909")
    relabelled = blob.replace(b"\x01a", b"\x01b", 1)
    with pytest.raises(InvalidTag):
        pii.decrypt(relabelled)


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_orders_of_one_cpf_make_one_customer():
    ids, errors = [], []

    def buy(index):
        try:
            ids.append(
                services.customer_upsert(name=f"Ana {index}", email="a@example.com", cpf=CPF).pk
            )
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(ids)) == 1
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_the_admin_reveal_needs_a_reason_and_logs_the_staff_user(admin_client, admin_user):
    customer = services.customer_upsert(name="Ana", email="ana@example.com", cpf=CPF)
    url = f"/admin/customers/customer/{customer.pk}/reveal/"

    assert (
        "12345678909"
        not in admin_client.get(f"/admin/customers/customer/{customer.pk}/change/").content.decode()
    )
    assert admin_client.post(url, {"reason": ""}).status_code == 200
    assert not PiiAccessLog.objects.exists()

    response = admin_client.post(url, {"reason": "customer asked"}, follow=True)

    assert "12345678909" in response.content.decode()
    assert PiiAccessLog.objects.get().actor == f"user:{admin_user.pk}:admin"


@pytest.mark.django_db
def test_the_public_reveal_by_id_logs_and_knows_unknown_customers():
    from retail.customers import public

    customer = public.customer_upsert(name="Ana", email="ana@example.com", cpf=CPF)
    assert public.customer_cpf_reveal(
        customer_id=customer.id, actor="coaf_export", reason="case 7"
    ) == ("12345678909")
    assert public.customer_cpf_reveal(customer_id="cus_nope", actor="x", reason="y") is None
    assert PiiAccessLog.objects.get().actor == "coaf_export"
