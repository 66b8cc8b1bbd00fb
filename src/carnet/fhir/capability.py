"""The CapabilityStatement: exactly what this server supports, derived from the code.

Only the interactions implemented are listed; search parameters appear when search does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from carnet.authz.service import Authz

SOFTWARE_VERSION = "0.1.0"
_INTERACTIONS = ("read", "vread", "update", "delete", "history-instance", "create")
_OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def capability_statement(
    *, base_url: str, resource_types: frozenset[str], authz: Authz, published: datetime
) -> dict[str, Any]:
    resources = [
        {
            "type": resource_type,
            "profile": f"http://hl7.org/fhir/StructureDefinition/{resource_type}",
            "interaction": [{"code": code} for code in _INTERACTIONS],
            "versioning": "versioned-update",
            "readHistory": True,
            "updateCreate": True,
            "conditionalCreate": False,
            "conditionalRead": "not-supported",
            "conditionalUpdate": False,
            "conditionalDelete": "not-supported",
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
            }
        ],
    }
