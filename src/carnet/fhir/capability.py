"""The CapabilityStatement: exactly what this server supports, derived from the code.

Only the interactions implemented are listed; search parameters, includes and reverse includes
come from the record's search catalog (``search_capability``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from carnet.authz.service import Authz
from carnet.fhir.operations.everything import DEFINITION as EVERYTHING
from carnet.fhir.operations.export import DEFINITIONS as EXPORTS
from carnet.fhir.operations.summary import DEFINITION as SUMMARY
from carnet.fhir.operations.validate import DEFINITION as VALIDATE
from carnet.fhir.search_capability import common_search_params, search_capability

SOFTWARE_VERSION = "0.1.0"
_INTERACTIONS = (
    "read",
    "vread",
    "update",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "patch",
    "search-type",
)
_OPERATIONS = {
    "Patient": [
        {"name": "everything", "definition": EVERYTHING},
        {"name": "export", "definition": EXPORTS["patient"]},
        {"name": "summary", "definition": SUMMARY},
    ],
    "Group": [{"name": "export", "definition": EXPORTS["group"]}],
}
_VALIDATE = {"name": "validate", "definition": VALIDATE}
_BULK_DATA = "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"
_OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def capability_statement(
    *,
    base_url: str,
    resource_types: frozenset[str],
    authz: Authz,
    published: datetime,
) -> dict[str, Any]:
    resources = [
        {
            "type": resource_type,
            "profile": f"http://hl7.org/fhir/StructureDefinition/{resource_type}",
            "interaction": [{"code": code} for code in _INTERACTIONS],
            "versioning": "versioned-update",
            "readHistory": True,
            "updateCreate": True,
            "conditionalCreate": True,
            "conditionalRead": "full-support",  # If-None-Match and If-Modified-Since: 304
            "conditionalUpdate": True,
            # One resource at a time: several matches are a 412, never a mass deletion.
            "conditionalDelete": "single",
            "operation": [*_OPERATIONS.get(resource_type, []), _VALIDATE],
            **search_capability(resource_type),
        }
        for resource_type in sorted(resource_types)
    ]
    smart = authz.smart_configuration()
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": published.date().isoformat(),
        "publisher": "Carnet",
        "kind": "instance",
        "software": {"name": "Carnet", "version": SOFTWARE_VERSION},
        "implementation": {"description": "Carnet FHIR R4 API", "url": base_url},
        "instantiates": [_BULK_DATA],
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "extension": [
                        {
                            "url": _OAUTH_URIS,
                            "extension": [
                                {"url": "token", "valueUri": smart["token_endpoint"]},
                            ],
                        }
                    ],
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": "OAuth 2 bearer tokens (SMART Backend Services).",
                },
                "resource": resources,
                "interaction": [
                    {"code": "history-system"},
                    {"code": "transaction"},
                    {"code": "batch"},
                ],
                "operation": [{"name": "export", "definition": EXPORTS["system"]}],
                "searchParam": common_search_params(),
            }
        ],
    }
