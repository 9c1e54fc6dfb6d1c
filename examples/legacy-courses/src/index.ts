export { CoursePublished, CourseUpdated, catalogueTopic } from './contracts.js';
export { mapCourseChange } from './course-mapping.js';
export { type LegacyCourseRow, legacyCoursesSql } from './legacy-schema.js';
