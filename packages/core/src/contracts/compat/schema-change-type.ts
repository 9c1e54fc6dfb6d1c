/**
 * The kinds of change between two JSON Schemas, named as Confluent Schema Registry's JSON Schema provider names
 * them (`io.confluent.kafka.schemaregistry.json.diff.Difference.Type`), each with whether a reader using the
 * updated schema can still read data written with the original one (Confluent's strict set, its default).
 *
 * A change is always found by comparing a *writer's* schema (the original) with a *reader's* (the update):
 * BACKWARD compares old (writer) with new (reader), FORWARD new (writer) with old (reader).
 * `{writer}` and `{reader}` in each description are replaced by the schemas' roles in the mode being checked.
 */
export const SCHEMA_CHANGE_RULES = {
  ID_CHANGED: [true, '$id changed'],
  DESCRIPTION_CHANGED: [true, 'description changed'],
  TITLE_CHANGED: [true, 'title changed'],
  DEFAULT_CHANGED: [true, 'default value changed'],
  SCHEMA_ADDED: [false, '{reader} constrains a value that {writer} leaves unconstrained'],
  SCHEMA_REMOVED: [true, '{reader} no longer constrains a value that {writer} constrains'],
  TYPE_EXTENDED: [true, '{reader} accepts any number where {writer} has an integer'],
  TYPE_NARROWED: [false, '{reader} requires an integer where {writer} allows any number'],
  TYPE_CHANGED: [false, 'the type in {reader} differs from the type in {writer}'],
  MAX_LENGTH_ADDED: [false, '{reader} adds a maxLength that {writer} does not have'],
  MAX_LENGTH_REMOVED: [true, '{reader} drops the maxLength of {writer}'],
  MAX_LENGTH_INCREASED: [true, '{reader} allows longer strings than {writer}'],
  MAX_LENGTH_DECREASED: [false, "{reader}'s maxLength is less than {writer}'s"],
  MIN_LENGTH_ADDED: [false, '{reader} adds a minLength that {writer} does not have'],
  MIN_LENGTH_REMOVED: [true, '{reader} drops the minLength of {writer}'],
  MIN_LENGTH_INCREASED: [false, "{reader}'s minLength is more than {writer}'s"],
  MIN_LENGTH_DECREASED: [true, '{reader} allows shorter strings than {writer}'],
  PATTERN_ADDED: [false, '{reader} adds a pattern that {writer} does not have'],
  PATTERN_REMOVED: [true, '{reader} drops the pattern of {writer}'],
  PATTERN_CHANGED: [false, 'the pattern differs between {writer} and {reader}'],
  MAXIMUM_ADDED: [false, '{reader} adds a maximum that {writer} does not have'],
  MAXIMUM_REMOVED: [true, '{reader} drops the maximum of {writer}'],
  MAXIMUM_INCREASED: [true, "{reader}'s maximum is more than {writer}'s"],
  MAXIMUM_DECREASED: [false, "{reader}'s maximum is less than {writer}'s"],
  MINIMUM_ADDED: [false, '{reader} adds a minimum that {writer} does not have'],
  MINIMUM_REMOVED: [true, '{reader} drops the minimum of {writer}'],
  MINIMUM_INCREASED: [false, "{reader}'s minimum is more than {writer}'s"],
  MINIMUM_DECREASED: [true, "{reader}'s minimum is less than {writer}'s"],
  EXCLUSIVE_MAXIMUM_ADDED: [false, '{reader} adds an exclusiveMaximum that {writer} does not have'],
  EXCLUSIVE_MAXIMUM_REMOVED: [true, '{reader} drops the exclusiveMaximum of {writer}'],
  EXCLUSIVE_MAXIMUM_INCREASED: [true, "{reader}'s exclusiveMaximum is more than {writer}'s"],
  EXCLUSIVE_MAXIMUM_DECREASED: [false, "{reader}'s exclusiveMaximum is less than {writer}'s"],
  EXCLUSIVE_MINIMUM_ADDED: [false, '{reader} adds an exclusiveMinimum that {writer} does not have'],
  EXCLUSIVE_MINIMUM_REMOVED: [true, '{reader} drops the exclusiveMinimum of {writer}'],
  EXCLUSIVE_MINIMUM_INCREASED: [false, "{reader}'s exclusiveMinimum is more than {writer}'s"],
  EXCLUSIVE_MINIMUM_DECREASED: [true, "{reader}'s exclusiveMinimum is less than {writer}'s"],
  MULTIPLE_OF_ADDED: [false, '{reader} adds a multipleOf that {writer} does not have'],
  MULTIPLE_OF_REMOVED: [true, '{reader} drops the multipleOf of {writer}'],
  MULTIPLE_OF_EXPANDED: [false, "{reader}'s multipleOf is a multiple of {writer}'s"],
  MULTIPLE_OF_REDUCED: [true, "{reader}'s multipleOf divides {writer}'s"],
  MULTIPLE_OF_CHANGED: [false, 'the multipleOf differs between {writer} and {reader}'],
  REQUIRED_ATTRIBUTE_ADDED: [false, '{reader} requires a property that is optional in {writer}'],
  REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED: [
    true,
    '{reader} requires a property that is optional in {writer}, with a default',
  ],
  REQUIRED_ATTRIBUTE_REMOVED: [true, '{reader} no longer requires a property that {writer} requires'],
  MAX_PROPERTIES_ADDED: [false, '{reader} adds a maxProperties that {writer} does not have'],
  MAX_PROPERTIES_REMOVED: [true, '{reader} drops the maxProperties of {writer}'],
  MAX_PROPERTIES_INCREASED: [true, "{reader}'s maxProperties is more than {writer}'s"],
  MAX_PROPERTIES_DECREASED: [false, "{reader}'s maxProperties is less than {writer}'s"],
  MIN_PROPERTIES_ADDED: [false, '{reader} adds a minProperties that {writer} does not have'],
  MIN_PROPERTIES_REMOVED: [true, '{reader} drops the minProperties of {writer}'],
  MIN_PROPERTIES_INCREASED: [false, "{reader}'s minProperties is more than {writer}'s"],
  MIN_PROPERTIES_DECREASED: [true, "{reader}'s minProperties is less than {writer}'s"],
  ADDITIONAL_PROPERTIES_ADDED: [true, '{reader} allows additional properties that {writer} forbids'],
  ADDITIONAL_PROPERTIES_REMOVED: [false, '{reader} forbids additional properties that {writer} allows'],
  ADDITIONAL_PROPERTIES_EXTENDED: [true, '{reader} allows any additional property, {writer} only some'],
  ADDITIONAL_PROPERTIES_NARROWED: [
    false,
    '{reader} constrains additional properties that {writer} leaves open',
  ],
  REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL: [
    false,
    '{reader} requires a property that {writer} (an open object) does not declare: events may lack it or carry anything there',
  ],
  REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL: [
    false,
    '{reader} requires a property (with a default) that {writer} (an open object) does not declare: events may carry anything there',
  ],
  OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL: [
    false,
    '{reader} declares a property that {writer} (an open object) does not: events may already carry it with another shape',
  ],
  PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL: [
    true,
    '{reader} declares a property accepting anything, which {writer} (an open object) allows',
  ],
  REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL: [
    false,
    '{reader} requires a property that {writer} (a closed object) never has',
  ],
  REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL: [
    true,
    '{reader} requires a property that {writer} (a closed object) never has, with a default',
  ],
  OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL: [
    true,
    '{reader} adds an optional property that {writer} (a closed object) never has',
  ],
  PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL: [
    true,
    '{reader} no longer declares a property of {writer}, and as an open object still accepts it',
  ],
  PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL: [
    true,
    '{reader} no longer declares a property that {writer} forbade (false)',
  ],
  PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL: [
    false,
    '{reader} is a closed object without a property that {writer} has: it rejects events carrying it',
  ],
  PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: [
    true,
    "{reader} no longer declares a property of {writer}, and its additional/pattern properties' schema accepts it",
  ],
  PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: [
    false,
    "{reader} no longer declares a property of {writer}, and its additional/pattern properties' schema rejects it",
  ],
  PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: [
    true,
    "{reader} declares a property that {writer}'s additional/pattern properties' schema already constrained compatibly",
  ],
  PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: [
    false,
    "{reader} declares a property that {writer}'s additional/pattern properties' schema allows with another shape",
  ],
  MAX_ITEMS_ADDED: [false, '{reader} adds a maxItems that {writer} does not have'],
  MAX_ITEMS_REMOVED: [true, '{reader} drops the maxItems of {writer}'],
  MAX_ITEMS_INCREASED: [true, "{reader}'s maxItems is more than {writer}'s"],
  MAX_ITEMS_DECREASED: [false, "{reader}'s maxItems is less than {writer}'s"],
  MIN_ITEMS_ADDED: [false, '{reader} adds a minItems that {writer} does not have'],
  MIN_ITEMS_REMOVED: [true, '{reader} drops the minItems of {writer}'],
  MIN_ITEMS_INCREASED: [false, "{reader}'s minItems is more than {writer}'s"],
  MIN_ITEMS_DECREASED: [true, "{reader}'s minItems is less than {writer}'s"],
  UNIQUE_ITEMS_ADDED: [false, '{reader} requires unique items, {writer} does not'],
  UNIQUE_ITEMS_REMOVED: [true, '{reader} no longer requires unique items'],
  ADDITIONAL_ITEMS_ADDED: [true, '{reader} allows items after the tuple that {writer} forbids'],
  ADDITIONAL_ITEMS_REMOVED: [false, '{reader} forbids items after the tuple that {writer} allows'],
  ADDITIONAL_ITEMS_EXTENDED: [true, '{reader} allows any item after the tuple, {writer} only some'],
  ADDITIONAL_ITEMS_NARROWED: [false, '{reader} constrains items after the tuple that {writer} leaves open'],
  ITEM_ADDED_TO_OPEN_CONTENT_MODEL: [
    false,
    '{reader} declares a tuple item that {writer} (open) leaves unconstrained',
  ],
  ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL: [
    true,
    '{reader} declares a tuple item accepting anything',
  ],
  ITEM_ADDED_TO_CLOSED_CONTENT_MODEL: [
    true,
    '{reader} declares a tuple item that {writer} (closed) never has',
  ],
  ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL: [true, '{reader} no longer declares a tuple item, and accepts any'],
  ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL: [true, '{reader} no longer declares a forbidden item'],
  ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL: [
    false,
    '{reader} is a closed tuple without an item that {writer} has',
  ],
  ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: [
    true,
    "{reader} no longer declares a tuple item of {writer}, and its items' schema accepts it",
  ],
  ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: [
    false,
    "{reader} no longer declares a tuple item of {writer}, and its items' schema rejects it",
  ],
  ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: [
    true,
    "{reader} declares a tuple item that {writer}'s items' schema constrained compatibly",
  ],
  ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL: [
    false,
    "{reader} declares a tuple item that {writer}'s items' schema allows with another shape",
  ],
  ENUM_ARRAY_EXTENDED: [true, '{reader} accepts more values than {writer}'],
  ENUM_ARRAY_NARROWED: [
    false,
    '{reader} accepts fewer values than {writer}: values {writer} allows are rejected',
  ],
  ENUM_ARRAY_CHANGED: [false, 'the allowed values (enum/const) differ between {writer} and {reader}'],
  COMBINED_TYPE_EXTENDED: [true, "{reader}'s combination (anyOf/oneOf/allOf) accepts more than {writer}'s"],
  COMBINED_TYPE_CHANGED: [false, 'the combination (anyOf/oneOf/allOf) differs between {writer} and {reader}'],
  PRODUCT_TYPE_EXTENDED: [false, '{reader} has more allOf sub-schemas than {writer}'],
  PRODUCT_TYPE_NARROWED: [true, '{reader} has fewer allOf sub-schemas than {writer}'],
  SUM_TYPE_EXTENDED: [true, '{reader} has more anyOf/oneOf alternatives than {writer}'],
  SUM_TYPE_NARROWED: [false, '{reader} has fewer anyOf/oneOf alternatives than {writer}'],
  COMBINED_TYPE_SUBSCHEMAS_CHANGED: [
    false,
    "an alternative of {writer}'s anyOf/oneOf/allOf has no compatible counterpart in {reader}",
  ],
} as const satisfies Record<string, readonly [boolean, string]>;

/** A Confluent change type (`Difference.Type`). */
export type SchemaChangeType = keyof typeof SCHEMA_CHANGE_RULES;

/** Whether a change keeps the reader able to read the writer's data (Confluent's strict compatible set). */
export function isCompatibleChange(change: SchemaChangeType): boolean {
  return SCHEMA_CHANGE_RULES[change][0];
}

/** The change described with the schemas' roles filled in (e.g. "the new schema", "the old schema"). */
export function describeChange(change: SchemaChangeType, writer: string, reader: string): string {
  return SCHEMA_CHANGE_RULES[change][1].replaceAll('{writer}', writer).replaceAll('{reader}', reader);
}
