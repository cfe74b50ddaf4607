/**
 * Files for the validate tests, written into a fresh temporary directory:
 * JSON Schema 2020-12 files (one `$ref`ing another) and an OpenAPI 3.0
 * document of the public Petstore shape (with a header parameter from
 * components, `nullable` and a boolean `exclusiveMinimum`).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** JSON Schema 2020-12 of an order: format, $ref to a file, prefixItems, dependentRequired, unevaluatedProperties. */
export const CREATE_ORDER = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['customer', 'items'],
  properties: {
    customer: { type: 'string', format: 'email' },
    items: { type: 'array', minItems: 1, items: { $ref: 'item.json' } },
    coupon: { type: 'string' },
    discount: { type: 'number' },
    shipTo: { type: 'array', prefixItems: [{ type: 'number', minimum: -90, maximum: 90 }, { type: 'number', minimum: -180, maximum: 180 }], items: false },
  },
  dependentRequired: { coupon: ['discount'] },
  unevaluatedProperties: false,
};

/** One order line (referenced as item.json). */
export const ITEM = {
  type: 'object',
  required: ['sku', 'qty'],
  properties: { sku: { type: 'string', pattern: '^[A-Z]{3}-\\d+$' }, qty: { type: 'integer', minimum: 1 } },
  additionalProperties: false,
};

/** The Petstore 3.0 document (the public example's shape, plus a header param and 3.0-only keywords). */
export const PETSTORE = `openapi: "3.0.3"
info: { title: Swagger Petstore, version: 1.0.0, license: { name: MIT } }
servers:
  - url: http://petstore.swagger.io/v1
paths:
  /pets:
    get:
      summary: List all pets
      operationId: listPets
      tags: [ pets ]
      parameters:
        - name: limit
          in: query
          description: How many items to return at one time (max 100)
          required: false
          schema: { type: integer, format: int32, maximum: 100 }
        - name: status
          in: query
          schema: { type: array, items: { type: string, enum: [ available, pending, sold ] } }
          explode: false
      responses:
        "200":
          description: A paged array of pets
          headers:
            x-next: { description: A link to the next page of responses, schema: { type: string } }
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Pets" }
        default:
          description: unexpected error
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Error" }
    post:
      summary: Create a pet
      operationId: createPets
      tags: [ pets ]
      requestBody:
        $ref: "#/components/requestBodies/NewPet"
      responses:
        "201": { description: Null response }
        default:
          description: unexpected error
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Error" }
  /pets/{petId}:
    parameters:
      - $ref: "#/components/parameters/TraceId"
    get:
      summary: Info for a specific pet
      operationId: showPetById
      tags: [ pets ]
      parameters:
        - name: petId
          in: path
          required: true
          description: The id of the pet to retrieve
          schema: { type: integer, minimum: 0, exclusiveMinimum: true }
      responses:
        "200":
          description: Expected response to a valid request
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Pet" }
        default:
          description: unexpected error
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Error" }
components:
  parameters:
    TraceId:
      name: X-Trace-Id
      in: header
      required: false
      schema: { type: string, pattern: "^[0-9a-f]{8}$" }
  requestBodies:
    NewPet:
      required: true
      content:
        application/json:
          schema: { $ref: "#/components/schemas/NewPet" }
  schemas:
    Pet:
      type: object
      required: [ id, name ]
      properties:
        id: { type: integer, format: int64 }
        name: { type: string }
        tag: { type: string, nullable: true }
    NewPet:
      type: object
      required: [ name ]
      additionalProperties: false
      properties:
        name: { type: string, minLength: 1 }
        tag: { type: string, nullable: true }
        weight: { type: number, minimum: 0, exclusiveMinimum: true }
    Pets:
      type: array
      maxItems: 100
      items: { $ref: "#/components/schemas/Pet" }
    Error:
      type: object
      required: [ code, message ]
      properties:
        code: { type: integer, format: int32 }
        message: { type: string }
`;

/** A temporary directory with schemas/create-order.json, schemas/item.json and specs/petstore.yaml. */
export function writeValidateFixtures(): string {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-validate-'));
  mkdirSync(join(dir, 'schemas'));
  mkdirSync(join(dir, 'specs'));
  writeFileSync(join(dir, 'schemas', 'create-order.json'), JSON.stringify(CREATE_ORDER, null, 2));
  writeFileSync(join(dir, 'schemas', 'item.json'), JSON.stringify(ITEM, null, 2));
  writeFileSync(join(dir, 'specs', 'petstore.yaml'), PETSTORE);
  return dir;
}
