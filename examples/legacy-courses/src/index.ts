export {
  CourseListing,
  CoursePublished,
  CourseUpdated,
  catalogueTopic,
  courseListingTopic,
} from './contracts.js';
export { mapCourseChange } from './course-mapping.js';
export { type LegacyCourseRow, legacyCoursesSql } from './legacy-schema.js';
